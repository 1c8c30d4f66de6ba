"""The violation classes the detector knows, in model output order.

The order is the class index of every YOLO label file, every trained model and every ONNX
export; changing it invalidates committed weights, so new classes are appended, never inserted.
"""

from __future__ import annotations

from enum import Enum


class ViolationClass(Enum):
    """A violation category; ``index`` is its class id in YOLO labels and model outputs."""

    ILLEGAL_STRUCTURE = "illegal_structure"
    CONSTRUCTION_WASTE = "construction_waste"
    CONSTRUCTION_MACHINERY = "construction_machinery"
    MUCK_TRUCK = "muck_truck"

    @property
    def index(self) -> int:
        """Class id used in YOLO label files and model outputs."""
        return CLASS_ORDER.index(self)

    @classmethod
    def from_index(cls, index: int) -> ViolationClass:
        """Class for a model output id; raises ``ValueError`` naming the valid range."""
        if not 0 <= index < len(CLASS_ORDER):
            raise ValueError(
                f"class id {index} is out of range 0..{len(CLASS_ORDER) - 1}; "
                "the model was trained with other classes — check its model card"
            )
        return CLASS_ORDER[index]


CLASS_ORDER: tuple[ViolationClass, ...] = tuple(ViolationClass)
CLASS_NAMES: tuple[str, ...] = tuple(c.value for c in CLASS_ORDER)

__all__ = ["CLASS_NAMES", "CLASS_ORDER", "ViolationClass"]
