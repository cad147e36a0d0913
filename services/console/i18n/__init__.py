"""Every label of the console, in one catalogue per language: zh-CN (default) and English.

`translate(lang, key)` falls back to English, then to a readable form of the key's last
part (so a new category from an estate's own rules still shows as words, never as nothing).
"""
from __future__ import annotations

from .en import CATALOGUE as EN
from .zh_cn import CATALOGUE as ZH_CN

DEFAULT_LANGUAGE = "zh-CN"
CATALOGUES = {"zh-CN": ZH_CN, "en": EN}
LANGUAGES = tuple(CATALOGUES)


def translate(lang: str, key: str, **values) -> str:
    text = CATALOGUES.get(lang, ZH_CN).get(key) or EN.get(key)
    if text is None:
        text = key.rsplit(".", 1)[-1].replace("_", " ") if "." in key and " " not in key else key
    return text.format(**values) if values else text
