"""Conformance: align variants with the SOP net and classify deviations."""
