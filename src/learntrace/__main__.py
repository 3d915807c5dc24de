from learntrace.cli import main

main()
