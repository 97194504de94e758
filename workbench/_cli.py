"""The command line shared by the model families that ship checkpoints:
`build [NAME ...]` retrains and writes them, `list` shows their recipes."""
import sys


def main(doc, recipes, build, width=22):
    args = sys.argv[1:]
    if args[:1] == ["build"]:
        build(args[1:] or None)
    elif args[:1] == ["list"]:
        for name, r in recipes.items():
            print(f"{name:{width}s} {r.about}")
    else:
        print(doc)
        sys.exit(2)
