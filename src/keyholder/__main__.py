from keyholder.cli import main

main()
