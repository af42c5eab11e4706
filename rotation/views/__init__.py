"""The rotation's pages, one module per page (or group of pages sharing a form)."""
