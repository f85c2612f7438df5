"""N-1 Studio: does a language model solve a power-grid OPF, or recall one?"""
__version__ = "0.1.0"
