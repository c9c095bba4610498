"""Report templates (Jinja2), shipped as package data: reports/templates/."""
