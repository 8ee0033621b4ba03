import sys

try:
    from sim.cli import main
except KeyboardInterrupt:  # Ctrl-C while the command line is still being imported
    sys.stderr.write("interrupted: no partial results were written\n")
    raise SystemExit(130) from None

main()
