"""Driven adapters for customer photos: image processing (Pillow) and storage (S3, local folder, memory)."""
