"""What leaves the app as files: the patient record, CSV cells."""
