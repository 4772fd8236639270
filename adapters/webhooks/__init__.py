"""Sending webhook deliveries over HTTP, safely."""
