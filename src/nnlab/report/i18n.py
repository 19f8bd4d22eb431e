"""UI strings from gettext catalogs (report/locale/<lang>/LC_MESSAGES/messages.po, read with
Babel) and language-aware number formatting. A string missing from a catalog is an error."""

from __future__ import annotations

import math
import unicodedata
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po
from babel.numbers import (
    format_decimal,
    format_percent,
    format_scientific,
    get_minus_sign_symbol,
)
from markupsafe import Markup

from nnlab.errors import NnlabError
from nnlab.metric_table import METRICS

LANGUAGES = ("vi", "en")
LOCALES = {"vi": "vi_VN", "en": "en_US"}
_SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
# Negative numbers take the true minus sign (U+2212) in both editions, as typeset text does;
# Babel gives the locale's sign, a hyphen-minus for en_US.
MINUS = "\u2212"


def check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise NnlabError(f"unknown language '{lang}' (choose from {', '.join(LANGUAGES)})")
    return lang


@cache
def catalog(locale_dir: Path, lang: str) -> dict[str, str]:
    path = locale_dir / lang / "LC_MESSAGES" / "messages.po"
    try:
        with open(path, "rb") as handle:
            entries = read_po(handle, locale=LOCALES[lang])
    except OSError as exc:
        raise NnlabError(f"message catalog not readable: {path} ({exc.strerror})") from exc
    return {
        message.id: unicodedata.normalize("NFC", message.string)
        for message in entries
        if message.id and message.string
    }


class Translator:
    def __init__(self, locale_dir: Path, lang: str):
        self.lang = check_language(lang)
        self.locale = LOCALES[lang]
        self.messages = catalog(locale_dir, lang)

    def __call__(self, msgid: str, **values) -> str:
        try:
            text = self.messages[msgid]
        except KeyError:
            raise NnlabError(f"no '{self.lang}' translation for UI string {msgid!r}") from None
        if any(isinstance(value, Markup) for value in values.values()):
            return Markup(text).format(**values)  # a citation link stays a link, the rest escaped
        return text.format(**values) if values else text

    def num(self, value, digits: int = 0) -> str:
        """Grouped digits and the language's decimal mark, e.g. 54,000.5 / 54.000,5."""
        return self._decimal(value, "#,##0" + ("." + "0" * digits if digits else ""))

    def signed(self, value, digits: int = 0) -> str:
        """A difference with its sign always written: +1.2, −3.4 (a true minus)."""
        text = self.num(value, digits)
        return text if text.startswith(MINUS) or text == "—" or value == 0 else "+" + text

    def short(self, value) -> str:
        """A setting as written in code, with only the decimals it has: 0.001, not 0.0010."""
        return self._decimal(value, "#,##0.########")

    def _decimal(self, value, pattern: str) -> str:
        if value is None or not math.isfinite(value):  # a failed run's NaN loss shows as a dash
            return "—"
        if abs(value) >= 1e15:  # beyond fixed-point range (an absurd learning rate, say)
            return self._minus(format_scientific(value, format="0.##E0", locale=self.locale))
        return self._minus(format_decimal(value, format=pattern, locale=self.locale))

    def _minus(self, text: str) -> str:
        """The one place a number's minus sign is set: the locale's sign becomes U+2212."""
        return text.replace(get_minus_sign_symbol(self.locale), MINUS)

    def sci(self, value: float) -> str:
        """A tiny or huge positive value as mantissa × 10 to a power: 2.3 × 10⁻⁶ (2,3 in
        Vietnamese); plain decimals between 0.01 and 10,000."""
        if value is None or not math.isfinite(value) or value <= 0:
            return "—"
        if 0.01 <= value < 10_000:
            return self._decimal(value, "#,##0.0##")
        exponent = math.floor(math.log10(value))
        mantissa = value / 10**exponent
        if round(mantissa, 1) >= 10:  # 9.96 would read 10.0 × 10^k
            mantissa, exponent = mantissa / 10, exponent + 1
        return f"{self.num(mantissa, 1)} × 10{str(exponent).translate(_SUPERSCRIPTS)}"

    def pvalue(self, value: float) -> str:
        """A p-value: four decimals, or "< 0.0001" when smaller; a no-break space after the
        sign, so a line never ends on it."""
        return f"<\u00a0{self.num(0.0001, 4)}" if value < 0.0001 else f"=\u00a0{self.num(value, 4)}"

    def metric(self, key: str, value) -> str:
        """A metric's value as the metric table writes it (metric_table.py)."""
        spec = METRICS[key]
        return self.pct(value, spec.digits) if spec.percent else self.num(value, spec.digits)

    def metric_difference(self, key: str, value) -> str:
        """A difference in the metric's unit (percentage points for a percentage), its sign
        kept: pass abs(value) for "higher by …"."""
        spec = METRICS[key]
        return self.num(value * 100 if spec.percent else value, spec.digits)

    def pct(self, value, digits: int = 2) -> str:
        if value is None or not math.isfinite(value):
            return "—"
        return self._minus(
            format_percent(value, format="#,##0." + "0" * digits + "%", locale=self.locale)
        )
