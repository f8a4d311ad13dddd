from django.contrib import admin


class LabelledTabularInline(admin.TabularInline):
    """A tabular inline whose fields carry their column's name (``aria-label``): Django's
    table names them only through the column header, which screen readers and axe do not
    take as a label (WCAG 1.3.1, 4.1.2)."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None:
            widget = getattr(field.widget, "widget", field.widget)  # inside a related-object wrapper
            widget.attrs.setdefault("aria-label", str(field.label or db_field.verbose_name))
        return field
