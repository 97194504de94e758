"""python -m workbench.llm build [NAME ...]   pretrain the shipped language models (teachers and the base student)
python -m workbench.llm list                 the models and their recipes"""
import sys

from .pretrained import RECIPES, build_shipped

if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["build"]:
        build_shipped(args[1:] or None)
    elif args[:1] == ["list"]:
        for name, r in RECIPES.items():
            print(f"{name:8s} {r.about}")
    else:
        print(__doc__)
        sys.exit(2)
