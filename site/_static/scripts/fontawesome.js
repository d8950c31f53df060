/* Stands for the theme's 1.5 MB fontawesome.js (a file in site/_static replaces the
   theme's file of the same name): its icons come from the icon fonts its stylesheet
   already loads. Jupyter Book also adds it to every page as a script of its own. */
