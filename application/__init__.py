"""Use cases of the CRM and the ports (interfaces) they need. Imports only ``domain``."""
