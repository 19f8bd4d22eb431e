"""Fingerprints of code by its syntax tree: comments, docstrings and layout do not count."""

from __future__ import annotations

import ast
import functools
import hashlib
import inspect
import textwrap


def _without_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if not isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        first = node.body[0] if node.body else None
        value = first.value if isinstance(first, ast.Expr) else None
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            node.body = node.body[1:] or [ast.Pass()]
    return tree


def source_digest(source: str) -> str:
    """SHA-256 of the source's syntax tree without docstrings (comments never reach the tree)."""
    tree = _without_docstrings(ast.parse(textwrap.dedent(source)))
    return hashlib.sha256(ast.dump(tree, include_attributes=False).encode()).hexdigest()


@functools.cache  # a process's code does not change under it; planners ask for it per run
def object_digest(item) -> str:
    return source_digest(inspect.getsource(item))
