from artdash.cli import main

main()
