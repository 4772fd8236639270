"""Several service processes on one database: what every replica must agree on."""
