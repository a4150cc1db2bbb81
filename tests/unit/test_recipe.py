"""The conda recipe (recipes/splamflow/meta.yaml) as Bioconda's linter wants it: the sdist's sha256,
recipe maintainers, `pip check` among the test commands; and scripts/package/recipe.py's writer of
the sha256 (check_dist.py --update-recipe, or `recipe.py SDIST` at release)."""

from __future__ import annotations

import hashlib
import re
import shutil

from scripts.package.recipe import RECIPE, load_recipe, set_sha256


def test_recipe_has_a_sha256_maintainers_and_pip_check():
    recipe = load_recipe()
    assert re.fullmatch(r"[0-9a-f]{64}", recipe["source"]["sha256"])
    assert recipe["source"]["sha256"] != "0" * 64, "write the sdist's: check_dist.py --update-recipe"
    assert recipe["extra"]["recipe-maintainers"], "Bioconda asks for at least one GitHub handle"
    assert "pip check" in recipe["test"]["commands"]
    assert "pip" in recipe["test"]["requires"]


def test_set_sha256_writes_the_sdists_digest(tmp_path):
    sdist = tmp_path / "splamflow-0.1.0.tar.gz"
    sdist.write_bytes(b"an sdist's bytes")
    recipe = tmp_path / "meta.yaml"
    shutil.copyfile(RECIPE, recipe)
    digest = set_sha256(sdist, recipe)
    assert digest == hashlib.sha256(b"an sdist's bytes").hexdigest()
    assert load_recipe(recipe)["source"]["sha256"] == digest
    assert recipe.read_text().replace(digest, "") == RECIPE.read_text().replace(load_recipe()["source"]["sha256"], "")
