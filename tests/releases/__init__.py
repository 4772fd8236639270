"""The previous release, served on the schema that HEAD's expand migrations produce, alone and beside HEAD."""
