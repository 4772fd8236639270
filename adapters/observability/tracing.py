"""OpenTelemetry tracing, on only when an OTLP endpoint is configured (CRM_OTLP_ENDPOINT)."""

from __future__ import annotations

from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

SERVICE = "crm-service"


def tracing(otlp_endpoint: str | None) -> tuple[OpenTelemetryPlugin, TracerProvider] | None:
    """The Litestar plugin that traces every request, and the provider to shut down (flush) on exit."""
    if not otlp_endpoint:
        return None
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: SERVICE}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{otlp_endpoint.rstrip('/')}/v1/traces")))
    config = OpenTelemetryConfig(tracer_provider=provider, exclude=["/health", "/metrics"])
    return OpenTelemetryPlugin(config), provider
