from paperworks.cli import main

main()
