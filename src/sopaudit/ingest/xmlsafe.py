"""Reject hostile XML (entity expansion, DTDs, external entities) before any parser sees it."""

from __future__ import annotations

from pathlib import Path

import defusedxml
import defusedxml.ElementTree as SafeET

from sopaudit.core.errors import InputFileError


def check_xml(path: str | Path, opener=open) -> None:
    """Parse the file once with defusedxml; raise InputFileError if it is unsafe or malformed."""
    try:
        with opener(path, "rb") as fh:
            for _ in SafeET.iterparse(fh, forbid_dtd=True, forbid_entities=True, forbid_external=True):
                pass
    except defusedxml.DefusedXmlException as exc:
        raise InputFileError(
            f"{path}: refused to read this XML because it declares a DTD or entities ({exc}); "
            "such constructs can expand without bound or read other files. Export the file "
            "again without a DOCTYPE declaration."
        ) from None
    except SafeET.ParseError as exc:
        raise InputFileError(f"{path}: not well-formed XML ({exc}); the file may be truncated") from None
    except LookupError as exc:  # the XML declaration names an encoding Python does not know
        raise InputFileError(f"{path}: the XML declaration names an unknown encoding ({exc}); save the file as "
                             "UTF-8") from None
    except (OSError, EOFError) as exc:
        raise InputFileError(f"{path}: cannot read the file ({exc})") from None
