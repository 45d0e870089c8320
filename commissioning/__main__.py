from commissioning.cli import main

if __name__ == "__main__":  # also keeps a spawned worker process from running the CLI again
    main()
