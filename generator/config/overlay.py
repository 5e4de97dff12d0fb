"""One YAML document laid over another: an environment's overlay over the base config.

Mappings are merged key by key, at every depth; anything else the overlay writes (a list, a number, null)
replaces the base's value whole, so a list is never spliced. The result is one YamlDocument to validate as
one config, and it remembers for every value the file and line it came from: the overlay's for what the
overlay wrote (a mapping both files write counts as the overlay's, which is what changed it), the base's
for the rest. Nothing is parsed again: the bookkeeping each file's reading recorded is carried over.

The merged document has no text and no spans (they would point into two different files): an edit of a
value goes to the file that writes it, read on its own.
"""

from __future__ import annotations

from typing import Any

from generator.config.yaml_source import KeyPath, YamlDocument, format_key_path


def overlaid(base: YamlDocument, overlay: YamlDocument) -> YamlDocument:
    """`overlay` laid over `base`; both must hold a mapping at the top. Every problem found reading either
    file stays in the result, each naming its own file."""
    if not isinstance(base.data, dict) or not isinstance(overlay.data, dict):
        raise ValueError("both documents must hold a mapping at the top")
    merged = YamlDocument(source=base.source, data=None, problems=[*base.problems, *overlay.problems])
    if () in base.lines:
        merged.lines[()] = base.lines[()]
    merged.data = _Merge(merged, base, overlay).mappings(base.data, overlay.data, ())
    return merged


class _Merge:
    def __init__(self, merged: YamlDocument, base: YamlDocument, overlay: YamlDocument) -> None:
        self.merged, self.base, self.overlay = merged, base, overlay

    def mappings(self, under: dict[str, Any], over: dict[str, Any], path: KeyPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key in [*under, *(key for key in over if key not in under)]:  # the base's order, then the new keys
            here = path + (key,)
            if key not in over:
                result[key] = under[key]
                self.take(self.base, here, under[key])
            elif isinstance(over[key], dict) and isinstance(under.get(key), dict):
                self.record(self.overlay, here)
                result[key] = self.mappings(under[key], over[key], here)
            else:
                result[key] = over[key]
                self.take(self.overlay, here, over[key])
        return result

    def take(self, document: YamlDocument, path: KeyPath, value: Any) -> None:
        """The bookkeeping of `value` (at `path` in `document`) and of everything inside it. Iterative and
        linear in the values inside: a file is at most yaml_source.MAX_NODES values."""
        pending = [(path, value)]
        while pending:
            here, item = pending.pop()
            self.record(document, here)
            if isinstance(item, dict):
                pending.extend((here + (key,), inner) for key, inner in item.items())
            elif isinstance(item, list):
                pending.extend((here + (index,), inner) for index, inner in enumerate(item))

    def record(self, document: YamlDocument, path: KeyPath) -> None:
        merged = self.merged
        if path in document.lines:
            merged.lines[path] = document.lines[path]
            source = document.sources.get(path, document.source)
            if source != merged.source:
                merged.sources[path] = source
        if path in document.spelled:
            merged.spelled[path] = document.spelled[path]
        if document.unreadable and (shown := format_key_path(path)) in document.unreadable:
            merged.unreadable.add(shown)
