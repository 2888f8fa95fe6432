"""The project's container images, built locally from Debian packages (no registry).

    from replicator.images import build_images, image_status, image_ref, IMAGE_NAMES

See docs/images.md.
"""

from replicator.images.build import (
    LABEL_IMAGE,
    LABEL_RECIPE,
    BuiltImage,
    ImageBuildError,
    ImageStatus,
    build_images,
    image_status,
    images_dir,
    prune_images,
)
from replicator.images.recipes import (
    IMAGE_NAMES,
    RECIPES_DIR,
    Recipe,
    deployed_image_ref,
    image_ref,
    load_recipes,
    recipe_hashes,
)

__all__ = [
    "IMAGE_NAMES",
    "LABEL_IMAGE",
    "LABEL_RECIPE",
    "RECIPES_DIR",
    "BuiltImage",
    "ImageBuildError",
    "ImageStatus",
    "Recipe",
    "build_images",
    "deployed_image_ref",
    "image_ref",
    "image_status",
    "images_dir",
    "load_recipes",
    "prune_images",
    "recipe_hashes",
]
