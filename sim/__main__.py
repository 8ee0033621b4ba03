from sim.cli import main  # light: the commands load inside main, which handles Ctrl-C

main()
