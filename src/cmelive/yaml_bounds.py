"""YAML settings files read within bounds: an inventory, a policy, waivers, a fake fleet's faults.

A settings file is small and shallow. A hostile or broken one is not: 400 bytes of aliases that
refer to aliases (a "billion laughs") expand exponentially when walked, and nesting thousands of
levels deep overflows the parser's recursion. :func:`compose_within_bounds` refuses both, and a file
larger than any settings file, with the one-line ``file:line: problem`` error of bad input (exit 2).
The YAML parser's own errors pass through unchanged: each reader words them its own way.
"""

from __future__ import annotations

import yaml

from cmelive.errors import InputError

#: Larger than any inventory of a real fleet (10,000 routers take ~1 MB).
MAX_BYTES = 16 * 1024 * 1024
#: Deeper than any settings file needs (an inventory is 4-5 levels deep).
MAX_DEPTH = 64
#: Values visited when walking the document, aliases followed: a real file has a few per line.
MAX_NODES = 1_000_000

Loader = type[yaml.SafeLoader]


def compose_within_bounds(text: str, where: str, loader: Loader = yaml.SafeLoader) -> yaml.Node | None:
    """``yaml.compose(text)``, refusing a document too large, too deep or that expands too far."""
    if len(text) > MAX_BYTES:
        raise InputError(where, f"{len(text)} characters: larger than any settings file ({MAX_BYTES} at most)")
    try:
        root: yaml.Node | None = yaml.compose(text, Loader=loader)
    except RecursionError:
        raise InputError(where, "nested too deeply to read (lists or mappings inside each other)") from None
    if root is not None:
        _check_walk(root, where)
    return root


def _check_walk(root: yaml.Node, where: str) -> None:
    """Walk the document as its readers will (aliases are the same node again), within bounds."""
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    visited = 0
    while stack:
        node, depth = stack.pop()
        visited += 1
        if depth > MAX_DEPTH:
            raise InputError(where, f"nested deeper than {MAX_DEPTH} levels", line=node.start_mark.line + 1)
        if visited > MAX_NODES:
            raise InputError(
                where,
                f"expands to more than {MAX_NODES} values when its aliases are followed (aliases of aliases?)",
                line=node.start_mark.line + 1,
            )
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.append((key, depth + 1))
                stack.append((value, depth + 1))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, depth + 1) for item in node.value)
