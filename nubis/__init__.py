"""Nubis: a private-cloud control plane that speaks the OpenStack APIs."""

import warnings

# futurist probes for eventlet at import time (it is installed as a dependency of
# oslo libraries), which makes eventlet print a deprecation banner into every
# service's output. Nubis never uses eventlet, so the banner is noise.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated", category=Warning)
