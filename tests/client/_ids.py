"""Id patterns of the API and well-formed ids that name nothing in any sandbox."""

from __future__ import annotations

import re

REQ_ID = re.compile(r"^req_[0-9A-HJKMNP-TV-Z]{26}$")
ULID = r"[0-9A-HJKMNP-TV-Z]{26}"
UUID4 = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
#: A resource id: its prefix and a UUIDv4 (projects, containers, posts, media, accounts, personas).
CNT_RE, SP_RE, MED_RE, SA_RE, INF_RE = (
    re.compile(rf"^{prefix}_{UUID4}$") for prefix in ("cnt", "sp", "med", "sa", "inf")
)
#: A job or OAuth state id: its prefix and a ULID.
JOB_RE, ST_RE = (re.compile(rf"^{prefix}_{ULID}$") for prefix in ("job", "st"))

GHOST_UUID = "0b6f3d2e-1a2b-4c3d-8e4f-5a6b7c8d9e0f"
#: Well-formed ids of each resource that no sandbox ever hands out.
GHOST_PRJ, GHOST_INF, GHOST_SA, GHOST_CNT, GHOST_SP, GHOST_MED = (
    f"{prefix}_{GHOST_UUID}" for prefix in ("prj", "inf", "sa", "cnt", "sp", "med")
)
GHOST_JOB = "job_01HXA1NHKJZXPV8R7Q6WSM5BCD"
#: A well-formed TikTok video id (19 digits).
TIKTOK_ID = "7301234567890123456"
