"""A WeasyPrint URL fetcher that serves local files under given folders and nothing else."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from weasyprint.urls import URLFetcher


class RefusedURL(ValueError):
    pass


class ConfinedFetcher(URLFetcher):
    """file: URLs under `allowed` folders and data: URLs; everything else is refused."""

    def __init__(self, allowed: list[Path]):
        super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False)
        self.roots = [root.resolve() for root in allowed]
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        parsed = urlparse(url)
        if parsed.scheme == "file":
            path = Path(unquote(parsed.path)).resolve()
            if not any(path.is_relative_to(root) for root in self.roots):
                self.refused.append(url)
                raise RefusedURL(f"refused file outside the build: {path}")
        elif parsed.scheme != "data":
            self.refused.append(url)
            raise RefusedURL(f"refused non-local URL: {url}")
        return super().fetch(url, headers)
