"""Text encoding detection for CSV files.

The order is: a byte-order mark (UTF-8, UTF-16), then strict UTF-8, then the Windows code
page whose decoded text looks most like real words. Windows code pages decode almost any
byte string without error, so the choice among them is made by scoring the decoded words.
"""

import codecs
import re
import unicodedata
from typing import NamedTuple

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


class DecodedText(NamedTuple):
    """Text of a file and how it was decoded.

    Attributes:
        text: The decoded text.
        encoding: Python codec name of the encoding used.
        replaced: Count of invalid UTF-8 sequences replaced with U+FFFD (0 for other
            encodings).
    """

    text: str
    encoding: str
    replaced: int


def decode_bytes(data: bytes, name: str) -> DecodedText:
    """Decode the bytes of a text table.

    Args:
        data: The file content.
        name: File name shown in error messages.

    Returns:
        The decoded text, the name of the encoding used (a Python codec name) and the count
        of replaced invalid UTF-8 sequences.

    Raises:
        InputError: The bytes are binary content, not text.
    """
    if data.startswith(codecs.BOM_UTF8):
        decoded = _decode_utf8(data[len(codecs.BOM_UTF8) :], "utf-8-sig", lenient=True)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            decoded = DecodedText(data.decode("utf-16"), "utf-16", 0)
        except UnicodeDecodeError as err:
            raise _not_a_table(name) from err
    else:
        if b"\x00" in data:
            raise _not_a_table(name)
        decoded = _decode_utf8(data, "utf-8", lenient=False) or _decode_code_page(data)

    if decoded is None or _looks_binary(decoded.text):
        raise _not_a_table(name)
    return decoded


def _decode_utf8(data: bytes, encoding: str, *, lenient: bool) -> DecodedText | None:
    """Decode UTF-8, replacing a few invalid sequences in text that is otherwise UTF-8.

    Without a byte-order mark, replacement happens only when valid multi-byte characters
    outnumber invalid sequences at least ten to one, because text in a Windows code page has
    no valid multi-byte characters, or only a few by chance. Returns None when that fails.
    """
    try:
        return DecodedText(data.decode("utf-8"), encoding, 0)
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="replace")
    replaced = text.count("\ufffd")
    multibyte = sum(1 for char in text if ord(char) > 127) - replaced
    if lenient or multibyte >= 10 * replaced:
        return DecodedText(text, encoding, replaced)
    return None


def _decode_code_page(data: bytes) -> DecodedText:
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
        return DecodedText(data.decode("latin-1"), "latin-1", 0)
    return DecodedText(best[2], best[3], 0)


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
