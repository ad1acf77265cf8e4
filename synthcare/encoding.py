"""Text encoding detection for CSV files.

The order is: a byte-order mark (UTF-8, UTF-16), then strict UTF-8, then the Windows code
page whose decoded text looks most like real words. Windows code pages decode almost any
byte string without error, so the choice among them is made by scoring the decoded words.
"""

import codecs
import re
import unicodedata

from synthcare.errors import InputError

# Tried in this order when UTF-8 fails, and on equal scores the earlier one wins. cp1252 comes
# first because it is the Windows code page of Western European languages.
WINDOWS_CODE_PAGES = (
    "cp1252",
    "cp1256",
    "cp1251",
    "cp1250",
    "cp1253",
    "cp1254",
    "cp1255",
    "cp1257",
)

# Control characters that do not belong in a text table. Tab, line feed, carriage return, form
# feed and vertical tab are allowed.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_WORD = re.compile(r"[^\W\d_]+")
_SCRIPTS = ("LATIN", "ARABIC", "CYRILLIC", "GREEK", "HEBREW")


def decode_bytes(data: bytes, name: str) -> tuple[str, str]:
    """Decode the bytes of a text table.

    Args:
        data: The file content.
        name: File name shown in error messages.

    Returns:
        The decoded text and the name of the encoding used (a Python codec name).

    Raises:
        InputError: The bytes are binary content, not text.
    """
    if data.startswith(codecs.BOM_UTF8):
        text, encoding = data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="strict"), "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text, encoding = data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as err:
            raise _not_a_table(name) from err
    else:
        if b"\x00" in data:
            raise _not_a_table(name)
        text, encoding = _decode_without_bom(data)

    if _looks_binary(text):
        raise _not_a_table(name)
    return text, encoding


def _decode_without_bom(data: bytes) -> tuple[str, str]:
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass

    best: tuple[float, int, str, str] | None = None
    for order, encoding in enumerate(WINDOWS_CODE_PAGES):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        candidate = (_implausibility(text), order, text, encoding)
        if best is None or candidate[:2] < best[:2]:
            best = candidate
    if best is None:
        # latin-1 maps every byte, so it is the last resort and never fails.
        return data.decode("latin-1"), "latin-1"
    return best[2], best[3]


def _implausibility(text: str) -> float:
    """Score decoded text: the share of words with non-ASCII letters that look like mojibake."""
    words = [word for word in _WORD.findall(text) if not word.isascii()]
    if not words:
        return 0.0
    suspicious = sum(1 for word in words if _is_suspicious(word))

    # Non-letter, non-ASCII symbols (such as the dagger or per-mille sign) are typical of
    # text decoded with the wrong code page.
    symbols = sum(
        1
        for char in text
        if ord(char) > 127 and not char.isalpha() and unicodedata.category(char)[0] in "SPC"
    )
    return (suspicious + symbols) / (len(words) + symbols)


def _is_suspicious(word: str) -> bool:
    scripts = {_script(char) for char in word}
    if len(scripts) > 1:
        return True
    if scripts == {"LATIN"}:
        accented = sum(1 for char in word if not char.isascii())
        if len(word) >= 2 and accented * 2 > len(word):
            return True
    # An upper-case letter right after a lower-case one ("ÃÍãÏ") is rare in real words.
    return any(a.islower() and b.isupper() for a, b in zip(word, word[1:], strict=False))


def _script(char: str) -> str:
    name = unicodedata.name(char, "")
    for script in _SCRIPTS:
        if name.startswith(script):
            return script
    return "OTHER"


def _looks_binary(text: str) -> bool:
    sample = text[:65536]
    if not sample:
        return False
    controls = len(_CONTROL.findall(sample))
    return controls > 0 and controls * 100 > len(sample)


def _not_a_table(name: str) -> InputError:
    return InputError(
        f"{name} is not a readable table: it contains binary content. "
        "Upload a CSV, Excel (.xlsx) or Parquet file."
    )
