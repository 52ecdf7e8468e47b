from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="InputSpec")


@_attrs_define
class InputSpec:
    """Shape of one crop the ``serving_default`` signature takes.

    Attributes:
        height (int):
        width (int):
        channels (Literal[1] | Unset):  Default: 1.
        dtype (Literal['uint8'] | Unset):  Default: 'uint8'.
    """

    height: int
    width: int
    channels: Literal[1] | Unset = 1
    dtype: Literal["uint8"] | Unset = "uint8"

    def to_dict(self) -> dict[str, Any]:
        height = self.height

        width = self.width

        channels = self.channels

        dtype = self.dtype

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "height": height,
                "width": width,
            }
        )
        if channels is not UNSET:
            field_dict["channels"] = channels
        if dtype is not UNSET:
            field_dict["dtype"] = dtype

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        height = d.pop("height")

        width = d.pop("width")

        channels = cast(Literal[1] | Unset, d.pop("channels", UNSET))
        if channels != 1 and not isinstance(channels, Unset):
            raise ValueError(f"channels must match const 1, got '{channels}'")

        dtype = cast(Literal["uint8"] | Unset, d.pop("dtype", UNSET))
        if dtype != "uint8" and not isinstance(dtype, Unset):
            raise ValueError(f"dtype must match const 'uint8', got '{dtype}'")

        input_spec = cls(
            height=height,
            width=width,
            channels=channels,
            dtype=dtype,
        )

        return input_spec
