/*
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
    Start and end of a splamflow run: parameter and samplesheet validation, versions
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
    Plain Nextflow/Groovy, no plugin (nf-schema is downloaded at run time): the checks read
    nextflow_schema.json and assets/schema_input.json and apply the keywords those files use
    (required, type, enum, minimum, maximum, pattern, exists, uniqueEntries), so the schema
    files stay the single description of valid input. Every problem is reported at once,
    before any task starts.
----------------------------------------------------------------------------------------
*/

workflow PIPELINE_INITIALISATION {

    take:
    input   // string or null: samplesheet CSV
    fasta   // string: genome FASTA
    gtf     // string or null: annotation for annotation mode
    model   // string or null: model weights

    main:
    def problems = validateParameters(params, file("${projectDir}/nextflow_schema.json"))
    if (!input && !gtf) {
        problems << 'give --input (a samplesheet of BAMs), --gtf (an annotation), or both'
    }
    problems.addAll(fastaIndexProblems(fasta))
    def rows = []
    if (input && !problems) {
        def sheet = readSamplesheet(file(input), file("${projectDir}/assets/schema_input.json"))
        problems.addAll(sheet.problems)
        rows = sheet.rows
    }
    def annotation = gtf ? annotationMeta(gtf) : null
    if (annotation && rows.any { row -> row[0].id == annotation.id }) {
        problems << "the annotation's output name '${annotation.id}' (from --gtf) is also a sample id in ${input}: rename one of them"
    }
    if (problems) {
        error("splamflow: invalid input, nothing was run:\n  - " + problems.join('\n  - '))
    }

    ch_inputs = channel.fromList(rows)
    if (annotation) {
        ch_inputs = ch_inputs.mix(channel.of([annotation, file(gtf), []]))
    }
    ch_fasta = channel.value([[id: file(fasta).simpleName], file(fasta), fastaIndexFiles(fasta)])
    ch_model = channel.value(model ? modelFiles(model) : [])

    emit:
    inputs = ch_inputs   // channel: [ val(meta), path(bam or gtf), path(index) or [] ]
    fasta  = ch_fasta    // channel: [ val(meta2), path(fasta), [ path(fai), path(gzi) ] ]
    model  = ch_model    // channel: [] or [ path(weights), path(json metadata) ]
}

workflow PIPELINE_COMPLETION {

    take:
    outdir  // string: output directory

    main:
    // every module puts (process, tool, version) on the `versions` topic; one YAML entry per process
    channel.topic('versions')
        .map { process, tool, version -> [process.tokenize(':').last(), "${tool}: ${version.toString().trim()}"] }
        .unique()
        .groupTuple()
        .map { process, tools -> "${process}:\n" + tools.sort().collect { tool -> "    ${tool}" }.join('\n') }
        .mix(channel.of("Workflow:\n    Nextflow: ${workflow.nextflow.version}\n    splamflow: ${workflow.manifest.version}"))
        .collectFile(
            storeDir: "${outdir}/pipeline_info",
            name: 'splamflow_software_versions.yml',
            sort: true,
            newLine: true
        )

    workflow.onComplete {
        log.info(workflow.success
            ? "splamflow: done, results in ${outdir}"
            : "splamflow: failed, see ${outdir}/pipeline_info/ and .nextflow.log")
    }
}

/*
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
    Functions
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
*/

// Problems with a value against one property of a schema (empty list when it is valid)
def valueProblems(String label, Object value, Map spec, Object base) {
    def problems = []
    def type = spec.type
    if (type == 'boolean' && !(value instanceof Boolean)) {
        return ["${label} must be true or false, not '${value}'"]
    }
    if (type == 'integer' && !(value instanceof Integer || value instanceof Long)) {
        return ["${label} must be a whole number, not '${value}'"]
    }
    if (type == 'number' && !(value instanceof Number)) {
        return ["${label} must be a number, not '${value}'"]
    }
    if (type == 'string' && !(value instanceof CharSequence)) {
        return ["${label} must be text, not '${value}'"]
    }
    if (spec.enum && !(value.toString() in spec.enum)) {
        problems << "${label} must be one of ${spec.enum.join(', ')}, not '${value}'"
    }
    if (spec.minimum != null && value instanceof Number && value < spec.minimum) {
        problems << "${label} must be at least ${spec.minimum}, not ${value}"
    }
    if (spec.maximum != null && value instanceof Number && value > spec.maximum) {
        problems << "${label} must be at most ${spec.maximum}, not ${value}"
    }
    if (spec.pattern && !(value.toString() ==~ spec.pattern)) {
        problems << (spec.errorMessage ? "${label}: ${spec.errorMessage} ('${value}')" : "${label} '${value}' does not match ${spec.pattern}")
    }
    if (spec.exists && !problems && !resolvePath(value.toString(), base).exists()) {
        problems << "${label}: file not found: ${resolvePath(value.toString(), base)}"
    }
    return problems
}

// A path as written, or relative to `base` (a folder) when it is relative and base is given
def resolvePath(String path, Object base) {
    def given = file(path)
    if (base == null || path.startsWith('/') || path.contains('://')) {
        return given
    }
    return base.resolve(path).normalize()
}

// Check the pipeline parameters against nextflow_schema.json
def validateParameters(Map run_params, Object schema_file) {
    def schema = new groovy.json.JsonSlurper().parseText(schema_file.text)
    def problems = []
    schema['$defs'].each { group_name, group ->
        group.required?.each { name ->
            if (run_params[name] == null) {
                problems << "--${name} is required (${group.properties[name]?.description ?: group.title})"
            }
        }
        group.properties.each { name, spec ->
            if (run_params[name] != null) {
                problems.addAll(valueProblems("--${name}", run_params[name], spec, null))
            }
        }
    }
    return problems
}

// FASTA index files that must sit next to the FASTA (.fai; .gzi too for bgzip)
def fastaIndexFiles(String fasta) {
    def names = ["${fasta}.fai"]
    if (fasta.endsWith('.gz')) {
        names << "${fasta}.gzi"
    }
    return names.collect { name -> file(name) }
}

def fastaIndexProblems(Object fasta) {
    if (!fasta || !file(fasta.toString()).exists()) {
        return []   // already reported by the schema check
    }
    return fastaIndexFiles(fasta.toString())
        .findAll { index -> !index.exists() }
        .collect { index ->
            "--fasta ${fasta} has no index ${index.name}: create it with `samtools faidx ${fasta}`" +
                (fasta.toString().endsWith('.gz') ? ' (bgzip-compressed FASTA needs both .fai and .gzi)' : '')
        }
}

// meta map of the annotation (annotation mode); its id names the output folder
def annotationMeta(String gtf) {
    return [id: file(gtf).name.replaceAll(/\.(gtf|gff|gff3)(\.gz)?$/, ''), type: 'annotation']
}

// Model weights plus their JSON metadata when it sits next to them (splamflow format)
def modelFiles(String model) {
    def weights = file(model)
    def metadata = file(model.replaceAll(/\.[^.\/]+$/, '.json'))
    return metadata.exists() && metadata != weights ? [weights, metadata] : [weights]
}

// Read and check the samplesheet against schema_input.json.
// Returns [rows: [[meta, bam, bai or []], ...], problems: [message, ...]]
def readSamplesheet(Object sheet, Object schema_file) {
    def schema = new groovy.json.JsonSlurper().parseText(schema_file.text)
    def properties = schema.items.properties
    def required = schema.items.required ?: []
    def problems = []
    def rows = []
    def lines = sheet.readLines()
    def where = { number -> "${sheet.name} line ${number}" }
    if (!lines || !lines[0].trim()) {
        return [rows: [], problems: ["${sheet}: empty samplesheet, expected a header line `${properties.keySet().join(',')}`"]]
    }
    def header = lines[0].split(',', -1).collect { column -> column.trim() }
    def missing = required.findAll { column -> !(column in header) }
    def unknown = header.findAll { column -> !(column in properties.keySet()) }
    def repeated = header.findAll { column -> header.count(column) > 1 }.unique()
    if (missing) {
        problems << "${where(1)}: missing column(s) ${missing.join(', ')} (header must be `${properties.keySet().join(',')}`, `bai` optional)"
    }
    if (unknown) {
        problems << "${where(1)}: unknown column(s) ${unknown.join(', ')} (allowed: ${properties.keySet().join(', ')})"
    }
    if (repeated) {
        problems << "${where(1)}: column(s) ${repeated.join(', ')} appear more than once"
    }
    if (problems) {
        return [rows: [], problems: problems]
    }
    def base = sheet.toAbsolutePath().parent
    def first_seen = [:]
    lines.eachWithIndex { line, index ->
        def number = index + 1
        if (index == 0 || !line.trim()) {
            return
        }
        def cells = line.split(',', -1).collect { cell -> cell.trim() }
        if (cells.size() != header.size()) {
            problems << "${where(number)}: ${cells.size()} fields, the header has ${header.size()}"
            return
        }
        def row = [header, cells].transpose().collectEntries { column, cell -> [column, cell] }
        def row_problems = []
        required.findAll { column -> !row[column] }.each { column ->
            row_problems << "${where(number)}: ${column} is empty"
        }
        row.findAll { column, cell -> cell }.each { column, cell ->
            row_problems.addAll(valueProblems("${where(number)}: ${column}", cell, properties[column], base))
        }
        schema.uniqueEntries?.each { column ->
            def value = row[column]
            def key = "${column}=${value}".toString()   // a String key: GStrings hash differently
            if (value && first_seen.containsKey(key)) {
                row_problems << "${where(number)}: ${column} '${value}' repeats line ${first_seen[key]}; ${column} values must be unique"
            } else if (value) {
                first_seen[key] = number
            }
        }
        problems.addAll(row_problems)
        if (!row_problems) {
            def bam = resolvePath(row.bam, base)
            def bai = row.bai ? resolvePath(row.bai, base) : [file("${bam}.bai"), file("${bam}.csi")].find { candidate -> candidate.exists() }
            rows << [[id: row.sample, type: 'alignments'], bam, bai ?: []]
        }
    }
    if (!rows && !problems) {
        problems << "${sheet}: no samples below the header line"
    }
    return [rows: rows, problems: problems]
}
