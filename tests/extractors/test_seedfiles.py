import codecs

from extractors.seedfiles import decode_seed


def test_utf8() -> None:
    decoded = decode_seed("Grüße https://x.org/".encode())
    assert decoded.text == "Grüße https://x.org/" and decoded.encoding == "utf-8"


def test_utf16_with_bom() -> None:
    decoded = decode_seed(codecs.BOM_UTF16_LE + "hello https://x.org/".encode("utf-16-le"))
    assert decoded.text == "hello https://x.org/"


def test_binary_is_refused_with_a_reason() -> None:
    decoded = decode_seed(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    assert decoded.text is None and decoded.reason and decoded.reason.startswith("binary")


def test_latin1_is_detected() -> None:
    decoded = decode_seed("Élysée à Paris, déjà vu, garçon. ".encode("latin-1") * 20)
    assert decoded.text is not None and "Élysée" in decoded.text


def test_empty_file_is_an_empty_text() -> None:
    assert decode_seed(b"").text == ""
