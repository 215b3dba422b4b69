from parcours.cli import app

app(prog_name="parcours")
