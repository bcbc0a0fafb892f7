"""Model ids that become paths: the one check both halves run before building a path from one.

A model id names a folder somewhere (`models--org--name` in the Hugging Face cache, a folder
under LX_MODEL_DIRS, a download target), so an id that would leave that folder is refused
before anything is looked up: `..` or `.` segments, an absolute path, a backslash, NUL or any
control character, empty segments, or more than 256 characters. Besides those string rules,
`stays_inside` joins the id under a folder and normalises the result, so whatever a rule
missed is still caught by where the path would really end up.

Pure path arithmetic (posixpath and ntpath only, no file system access): symlinks that an
operator put in a model folder, and the Hugging Face cache's own snapshot links, are theirs.
"""

from __future__ import annotations

import ntpath
import posixpath

from protocol.errors import ErrorCode, ServiceError

MAX_MODEL_ID_LENGTH = 256
# Any base will do: the question is whether the id climbs out of it.
_PROBE_BASE = "/models"


def model_id_problem(model_id: str) -> str | None:
    """Why `model_id` may not name a folder, or None when it may."""
    if not model_id:
        return "it is empty"
    if len(model_id) > MAX_MODEL_ID_LENGTH:
        return f"it is longer than {MAX_MODEL_ID_LENGTH} characters"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in model_id):
        return "it holds a control character (NUL, newline, ...)"
    if "\\" in model_id:
        return "it holds a backslash"
    if model_id.startswith("/") or ntpath.splitdrive(model_id)[0] or ntpath.isabs(model_id):
        return "it is an absolute path"
    segments = model_id.split("/")
    if any(s in ("", ".", "..") for s in segments):
        return "it has an empty, '.' or '..' segment"
    if not stays_inside(_PROBE_BASE, model_id):
        return "it would leave the folder it names"
    return None


def stays_inside(base: str, relative: str) -> bool:
    """Whether `base/relative`, normalised, is strictly inside `base` (also normalised)."""
    root = posixpath.normpath(base)
    joined = posixpath.normpath(posixpath.join(root, relative))
    return joined != root and posixpath.commonpath([root, joined]) == root


def check_model_id(model_id: str, field: str = "model_id") -> str:
    """`model_id` itself, or INVALID_REQUEST (400) saying why it cannot name a model."""
    problem = model_id_problem(model_id)
    if problem is not None:
        raise ServiceError(
            ErrorCode.INVALID_REQUEST,
            f"{field} {model_id!r} is not a model id: {problem}.",
            {"field": field, "model_id": model_id, "reason": problem},
        )
    return model_id
