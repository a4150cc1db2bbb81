// Parse Nextflow scripts, configs and nf-test files with the Groovy parser (syntax only, the
// CONVERSION phase: Nextflow's own AST transforms decide what the names mean later).
// usage: groovy syntax_check.groovy FILE...
import org.codehaus.groovy.control.CompilationFailedException
import org.codehaus.groovy.control.CompilationUnit
import org.codehaus.groovy.control.Phases

def failed = 0
for (path in args) {
    def unit = new CompilationUnit()
    unit.addSource(new File(path))
    try {
        unit.compile(Phases.CONVERSION)
    } catch (CompilationFailedException e) {
        System.err.println(e.message.trim())
        failed++
    }
}
println "syntax_check: ${args.size() - failed} of ${args.size()} files parse"
System.exit(failed ? 1 : 0)
