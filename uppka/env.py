"""Tiny helpers to read settings from environment variables."""

import os
from pathlib import Path

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool = False) -> bool:
    """Read a yes/no variable; anything unexpected is an error, not a silent False."""
    value = os.environ.get(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"{name} must be 1/0, true/false, yes/no or on/off, not {value!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    """Read a comma-separated list, ignoring blanks around the commas."""
    value = os.environ.get(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def load_env_file(path: str | None, *, default: Path) -> Path | None:
    """Read KEY=value lines of an env file into the environment (python-dotenv), without
    overriding what the environment already holds.

    ``path`` (UPPKA_ENV_FILE) must exist when given: a typo there would otherwise start the
    app on SQLite with the development settings. Without it, ``default`` (./.env) is read
    when it exists. Returns the file read, if any.
    """
    from dotenv import load_dotenv

    if path:
        chosen = Path(path)
        if not chosen.is_file():
            raise FileNotFoundError(f"UPPKA_ENV_FILE names {chosen}, which does not exist.")
    elif default.is_file():
        chosen = default
    else:
        return None
    load_dotenv(chosen, override=False)
    return chosen


EXAMPLE_SECRETS = {"change-me", "changeme", "secret", "dev-only-insecure-secret-key-do-not-use-in-production"}


def weak_secret_key(key: str) -> str | None:
    """Why a production SECRET_KEY is weak, or None when it is fine.

    >>> weak_secret_key("change-me")
    'the example value of .env.example'
    """
    if key.strip().lower() in EXAMPLE_SECRETS or "change-me" in key.lower():
        return "the example value of .env.example"
    if len(key) < 40:
        return f"only {len(key)} characters long (40 at least)"
    if len(set(key)) < 12:
        return f"made of only {len(set(key))} different characters (12 at least)"
    return None
