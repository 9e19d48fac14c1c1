"""Build steps run by hand (through the Makefile), whose output is committed."""
