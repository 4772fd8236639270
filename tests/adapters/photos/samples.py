"""Images and not-images for the photo tests, made on the spot (with Pillow or by hand)."""

from __future__ import annotations

import io
import random
import struct
import zlib

from PIL import ExifTags, Image, ImageCms

GPS_LATITUDE = (51.0, 30.0, 26.46)
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="Secret Photographer"/>'
    b"</rdf:RDF></x:xmpmeta>"
)
COMMENT = b"taken at 10 Downing Street"
HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"


def two_colour(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """Left half red, right half blue: shows which way an image was turned. In RGBA the blue half
    is see-through."""
    width, height = size
    image = Image.new(mode, size, (0, 0, 255, 128) if mode == "RGBA" else (0, 0, 255))
    image.paste((255, 0, 0, 255) if mode == "RGBA" else (255, 0, 0), (0, 0, width // 2, height))
    return image


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def jpeg_with_metadata(size: tuple[int, int] = (400, 200), orientation: int = 6) -> bytes:
    """A JPEG carrying EXIF (orientation, camera, GPS position), XMP, an ICC profile and a comment."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "SpyCam"
    exif[ExifTags.Base.Model] = "Model 7"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = GPS_LATITUDE
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    gps[ExifTags.GPS.GPSLongitude] = (0.0, 7.0, 39.6)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return encode(two_colour(size), "JPEG", quality=90, exif=exif, xmp=XMP, icc_profile=icc, comment=COMMENT)


def noise(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """Random pixels compress badly, so cutting the file short really cuts into the picture data."""
    count = size[0] * size[1] * len(mode)
    return Image.frombytes(mode, size, random.Random(size[0] * 7919 + size[1]).randbytes(count))


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG header (with correct CRCs) declaring ``width`` x ``height`` RGB pixels, and almost no data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return PNG_SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + _chunk(b"IEND", b"")


def png_bomb(width: int, height: int) -> bytes:
    """A complete, valid 1-bit PNG of all-zero pixels: tiny on disk, enormous when decoded."""
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row) for _ in range(height)]
    parts.append(compressor.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return PNG_SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", b"".join(parts)) + _chunk(b"IEND", b"")


SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script><rect width='10' height='10'/></svg>"
)
SVG_PLAIN = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
GIF_HTML_POLYGLOT = b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00;*/=1;" + HTML
JPEG_HTML_POLYGLOT = b"\xff\xd8\xff\xe0" + HTML
