"""Every form, one module per audience; all render through crispy-forms'
Bootstrap 5 pack (``{% crispy form %}`` or ``|crispy``)."""
