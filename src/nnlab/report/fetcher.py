"""A WeasyPrint URL fetcher that serves local files under given folders and nothing else."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse


class RefusedURL(ValueError):
    pass


def confined_fetcher(allowed: list[Path]):
    from weasyprint import default_url_fetcher

    roots = [root.resolve() for root in allowed]

    def fetch(url: str, *args, **kwargs):
        parsed = urlparse(url)
        if parsed.scheme == "data":
            return default_url_fetcher(url, *args, **kwargs)
        if parsed.scheme != "file":
            raise RefusedURL(f"refused non-local URL: {url}")
        path = Path(unquote(parsed.path)).resolve()
        if not any(path.is_relative_to(root) for root in roots):
            raise RefusedURL(f"refused file outside the build: {path}")
        return default_url_fetcher(url, *args, **kwargs)

    return fetch
