from cmelive.cli import main

main()
