"""Verification sample: the audit step after the tool. A reproducible stratified random sample
of findings and conforming cases (`sample`), written as a worksheet the auditor fills against the
paper files (`worksheet`), read back into confirmed shares with confidence intervals and an
estimated missed-deviation rate (`estimate`, intervals in `intervals`). docs/verification.md."""

from sopaudit.verification.estimate import VerificationResult, read_verification
from sopaudit.verification.sample import VerificationSample, verification_sample

__all__ = ["VerificationResult", "VerificationSample", "read_verification", "verification_sample"]
