from parcours.cli import app

if __name__ == "__main__":  # not when a child process (the relay's reader) imports it
    app(prog_name="parcours")
