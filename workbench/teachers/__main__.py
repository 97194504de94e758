"""python -m workbench.teachers build [NAME ...]   retrain the shipped digits teachers
python -m workbench.teachers list                 the teachers and their recipes"""
import sys

from . import RECIPES, build_shipped

if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["build"]:
        build_shipped(args[1:] or None)
    elif args[:1] == ["list"]:
        for name, r in RECIPES.items():
            print(f"{name:22s} {r.about}")
    else:
        print(__doc__)
        sys.exit(2)
