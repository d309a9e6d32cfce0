"""Exports: CSV of measurements, FHIR R4 bundle, PDF patient and clinic reports."""
