"""The release number: the installed distribution's version, which the build takes from git tags."""

from importlib import metadata


def _installed_version() -> str:
    try:
        return metadata.version("nubis")
    except metadata.PackageNotFoundError:
        # Imported from a source tree that was never installed: no build, no number.
        return "0+unknown"


VERSION = _installed_version()
